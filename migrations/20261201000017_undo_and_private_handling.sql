-- Undoing a decision, and urgent comments handled without publishing them.
ALTER TABLE comments
    -- The status a comment had before its latest moderation decision: what an undo restores.
    ADD COLUMN previous_status comment_status,
    -- An urgent comment handled privately (for example, the safeguarding lead contacted the reader
    -- through the email they gave). It is never published; the note is for staff only and is
    -- never shown to readers, put in mails or written to logs.
    ADD COLUMN handled_privately_at timestamptz,
    ADD COLUMN handled_privately_by bigint
        CONSTRAINT comments_handled_privately_by_fkey REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN private_note text,
    -- A waiting comment passed to a midwife: it shows under "Awaiting a midwife" while it is
    -- still unpublished.
    ADD COLUMN passed_to_midwife_at timestamptz,
    ADD COLUMN passed_to_midwife_by bigint
        CONSTRAINT comments_passed_to_midwife_by_fkey REFERENCES users (id) ON DELETE SET NULL;

-- The "Handled privately" tab, newest first.
CREATE INDEX comments_handled_privately_idx ON comments (created_at DESC, id DESC)
    WHERE status = 'hidden' AND handled_privately_at IS NOT NULL;

-- Waiting comments passed to a midwife, read with the awaiting list.
CREATE INDEX comments_passed_to_midwife_idx ON comments (urgent DESC, created_at, id)
    WHERE status = 'pending' AND passed_to_midwife_at IS NOT NULL AND no_reply_needed_at IS NULL;
