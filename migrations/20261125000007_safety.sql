ALTER TABLE comments
    -- Safeguarding triage: the comment mentions a warning sign; these go first in the queue.
    ADD COLUMN urgent        boolean  NOT NULL DEFAULT false,
    ADD COLUMN urgent_signs  text[]   NOT NULL DEFAULT '{}',
    -- Why a comment was put in the spam tab.
    ADD COLUMN spam_reason   text,
    -- A keyed hash of the poster's address (HMAC), never the address itself: for rate limits,
    -- repeated posts and one report per reader.
    ADD COLUMN client_hash   bytea,
    ADD COLUMN report_count  integer  NOT NULL DEFAULT 0;

-- The waiting queue: urgent first, then oldest first.
DROP INDEX comments_pending_idx;
CREATE INDEX comments_pending_idx ON comments (urgent DESC, created_at, id) WHERE status = 'pending';
-- Rate limits and repeated posts look at recent comments by one address or on one article.
CREATE INDEX comments_client_recent_idx ON comments (client_hash, created_at) WHERE client_hash IS NOT NULL;
CREATE INDEX comments_article_recent_idx ON comments (article_id, created_at);

-- Readers' reports on published comments: one per reader per comment.
CREATE TABLE comment_reports (
    id          bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT comment_reports_pkey PRIMARY KEY,
    comment_id  bigint      NOT NULL CONSTRAINT comment_reports_comment_fkey REFERENCES comments (id) ON DELETE CASCADE,
    client_hash bytea       NOT NULL,
    reason      text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT comment_reports_once UNIQUE (comment_id, client_hash)
);
