-- "Awaiting a midwife": published questions (guests' top-level comments) that no staff reply
-- answers yet. A moderator may take one off that list as needing no reply; who and when is kept
-- here (and in the audit log).
ALTER TABLE comments
    ADD COLUMN no_reply_needed_at timestamptz,
    ADD COLUMN no_reply_needed_by bigint
        CONSTRAINT comments_no_reply_needed_by_fkey REFERENCES users (id) ON DELETE SET NULL;

-- The list: urgent first, then oldest first, over published top-level guest comments only.
CREATE INDEX comments_awaiting_idx ON comments (urgent DESC, created_at, id)
    WHERE status = 'published' AND parent_id IS NULL AND author_kind = 'guest'
      AND no_reply_needed_at IS NULL;
