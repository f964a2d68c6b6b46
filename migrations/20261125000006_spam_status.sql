-- Likely spam is kept apart from the queue until a moderator looks at it.
ALTER TYPE comment_status ADD VALUE IF NOT EXISTS 'spam';
