-- What paid the invoice ("VISA •••• 4242"), when it is known at the time the payment is
-- recorded: from the payload, or asked of Stripe when newer API versions leave it out.
ALTER TABLE payments ADD COLUMN payment_method text;
