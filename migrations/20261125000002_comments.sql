CREATE TYPE comment_status AS ENUM ('pending', 'published', 'hidden');
CREATE TYPE author_kind AS ENUM ('guest', 'staff');

CREATE TABLE comments (
    id           bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT comments_pkey PRIMARY KEY,
    article_id   bigint         NOT NULL CONSTRAINT comments_article_fkey REFERENCES articles (id) ON DELETE CASCADE,
    -- A reply keeps its real parent whatever depth it is shown at.
    parent_id    bigint         CONSTRAINT comments_parent_fkey REFERENCES comments (id) ON DELETE CASCADE,
    author_kind  author_kind    NOT NULL DEFAULT 'guest',
    author_name  text           NOT NULL,
    -- Private: never shown to readers; kept so we can tell a guest when someone replies.
    author_email text,
    body         text           NOT NULL,
    status       comment_status NOT NULL DEFAULT 'pending',
    created_at   timestamptz    NOT NULL DEFAULT now(),
    published_at timestamptz,
    CONSTRAINT comments_author_name_length CHECK (length(author_name) BETWEEN 1 AND 80),
    CONSTRAINT comments_body_length CHECK (length(body) BETWEEN 1 AND 5000),
    CONSTRAINT comments_not_own_parent CHECK (parent_id <> id)
);

-- Readers' pages: the published top-level comments of one article, newest first.
CREATE INDEX comments_published_threads_idx ON comments (article_id, created_at DESC, id DESC)
    WHERE status = 'published' AND parent_id IS NULL;
-- Walking a thread down from its top-level comment.
CREATE INDEX comments_parent_idx ON comments (parent_id) WHERE parent_id IS NOT NULL;
-- The moderation queue: pending comments, oldest first.
CREATE INDEX comments_pending_idx ON comments (created_at, id) WHERE status = 'pending';
