-- Bearer tokens for the JSON API. An admin makes one for a member of staff; the token acts as that
-- account, within its scope, and the account's role still decides what it may do. The token itself
-- is shown once: only its SHA-256 is kept, so a copy of the database opens nothing. A revoked token,
-- or one whose owner is disabled, stops working at once.
CREATE TYPE api_token_scope AS ENUM ('read', 'moderate');

CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT api_tokens_pkey PRIMARY KEY,
    user_id      bigint          NOT NULL CONSTRAINT api_tokens_user_fkey REFERENCES users (id) ON DELETE CASCADE,
    -- What the token is for ("CMS sync"), so admins know what they revoke.
    name         text            NOT NULL,
    scope        api_token_scope NOT NULL,
    token_hash   bytea           NOT NULL CONSTRAINT api_tokens_token_hash_key UNIQUE,
    created_at   timestamptz     NOT NULL DEFAULT now(),
    created_by   bigint          CONSTRAINT api_tokens_created_by_fkey REFERENCES users (id),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    revoked_by   bigint          CONSTRAINT api_tokens_revoked_by_fkey REFERENCES users (id),
    CONSTRAINT api_tokens_name_length CHECK (length(name) BETWEEN 1 AND 80),
    CONSTRAINT api_tokens_revoked_by_whom CHECK (revoked_by IS NULL OR revoked_at IS NOT NULL)
);

-- Comment counts for article listings: published comments of many articles at once, counted from
-- the index alone.
CREATE INDEX comments_published_by_article_idx ON comments (article_id) WHERE status = 'published';
