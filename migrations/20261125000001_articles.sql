-- Articles are pages on the organisation's own website that take comments here.
CREATE TABLE articles (
    id            bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT articles_pkey PRIMARY KEY,
    slug          text        NOT NULL CONSTRAINT articles_slug_key UNIQUE,
    title         text        NOT NULL,
    url           text        NOT NULL,
    comments_open boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- Slugs appear in addresses: lower-case words joined by single hyphens.
    CONSTRAINT articles_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    CONSTRAINT articles_title_length CHECK (length(title) BETWEEN 1 AND 200),
    CONSTRAINT articles_url_http CHECK (url ~* '^https?://')
);
