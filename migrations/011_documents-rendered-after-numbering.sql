-- A document's number is taken in a short transaction of its own (the counter row stays locked
-- only until that commit) and its PDF is rendered and stored afterwards. A row without a PDF is
-- a numbered document still being rendered: its number is kept, so a failed render leaves no
-- gap, and the retry renders it.
ALTER TABLE documents ALTER COLUMN pdf DROP NOT NULL;
