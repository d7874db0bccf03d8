import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** A real SMTP server whose received messages the test reads. */
export interface TestSmtp {
  url: string;
  messages: ParsedMail[];
  /** SMTP connections clients opened. */
  connections(): number;
  to(address: string): ParsedMail[];
  waitForMessages(count: number, timeoutMs?: number): Promise<ParsedMail[]>;
  /** Answers the address `451` (try again later) until `undefer`, as a relay that is away for a while. */
  defer(address: string): void;
  undefer(address: string): void;
  /** How often the server answered `451` so far. */
  deferrals(): number;
  stop(): Promise<void>;
}

/**
 * `rejectRecipients`: addresses answered `550 mailbox unavailable`, as a relay does for a bad
 * address. `idleTimeoutMs`: the server closes a connection idle that long, as relays do.
 */
export async function startTestSmtp(options: { rejectRecipients?: string[]; idleTimeoutMs?: number } = {}): Promise<TestSmtp> {
  const messages: ParsedMail[] = [];
  let connections = 0;
  const rejected = new Set((options.rejectRecipients ?? []).map((address) => address.toLowerCase()));
  const deferred = new Set<string>();
  let deferrals = 0;
  const server = await listenSmtp({
    ...(options.idleTimeoutMs && { socketTimeout: options.idleTimeoutMs }),
    onConnect(_session, callback) {
      connections += 1;
      callback();
    },
    onRcptTo(address, _session, callback) {
      const recipient = address.address.toLowerCase();
      if (rejected.has(recipient)) return callback(Object.assign(new Error('5.1.1 mailbox unavailable'), { responseCode: 550 }));
      if (!deferred.has(recipient)) return callback();
      deferrals += 1;
      callback(Object.assign(new Error('4.4.1 try again later'), { responseCode: 451 }));
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  const addressesOf = (mail: ParsedMail) =>
    [mail.to ?? []].flat().flatMap((to) => to.value.map((v) => v.address?.toLowerCase()));
  return {
    ...server,
    messages,
    connections: () => connections,
    to: (address) => messages.filter((mail) => addressesOf(mail).includes(address.toLowerCase())),
    defer: (address) => deferred.add(address.toLowerCase()),
    undefer: (address) => deferred.delete(address.toLowerCase()),
    deferrals: () => deferrals,
    async waitForMessages(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} messages, got ${messages.length}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return messages;
    },
  };
}

/** An SMTP server that only keeps each message's Message-ID: the bench and chaos runs count with it. */
export interface CountingSmtp {
  url: string;
  /** Message-ID of every message accepted, in order (a re-sent message appears twice). */
  messageIds: string[];
  stop(): Promise<void>;
}

/**
 * Reads only the header block of each message (no MIME parsing of bodies and attachments), so
 * that on a shared 2-core machine the load's own mail server takes little of the CPU the
 * service under measurement needs; a production mail server runs elsewhere.
 */
export async function startCountingSmtp(): Promise<CountingSmtp> {
  const messageIds: string[] = [];
  const server = await listenSmtp({
    onData(stream, _session, callback) {
      let head = '';
      stream.on('data', (chunk: Buffer) => {
        if (!head.includes('\r\n\r\n') && head.length < 64 * 1024) head += chunk.toString('latin1');
      });
      stream.on('end', () => {
        const headers = head.split('\r\n\r\n')[0].replace(/\r\n[ \t]+/g, ' ');
        messageIds.push(/^message-id:\s*(\S+)/im.exec(headers)?.[1] ?? '(none)');
        callback();
      });
    },
  });
  return { ...server, messageIds };
}

/** An SMTP server on a free local port, without TLS or authentication, with the given handlers. */
async function listenSmtp(handlers: Pick<SMTPServerOptions, 'onConnect' | 'onRcptTo' | 'onData' | 'socketTimeout'>): Promise<{ url: string; stop(): Promise<void> }> {
  const server = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'], logger: false, ...handlers });
  // A client killed mid-session (the chaos run SIGKILLs workers) resets its connection; a real
  // mail server shrugs that off, and so must this one.
  server.on('error', () => undefined);
  const port = await new Promise<number>((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.server.address() as { port: number }).port));
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
