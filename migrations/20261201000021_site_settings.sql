-- Site settings an admin changes in the browser (Admin → Settings). Flags and CARETHREAD_*
-- variables give every setting its starting value; a row here overrides it. Only what was
-- changed is stored, so a setting never changed in the browser still follows the variable.
CREATE TABLE site_settings (
    name       text        NOT NULL,
    value      text        NOT NULL,
    changed_by bigint,
    changed_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT site_settings_pkey PRIMARY KEY (name),
    CONSTRAINT site_settings_changed_by_fkey FOREIGN KEY (changed_by) REFERENCES users (id),
    CONSTRAINT site_settings_value_length CHECK (char_length(value) BETWEEN 1 AND 4000)
);

-- The disclaimer is versioned: each change in the browser adds a row, and the newest row is the
-- disclaimer new replies are published with. A reply keeps the text it was published with
-- (`comments.disclaimer`) and, when it came from here, which version that was. No row: the
-- disclaimer of CARETHREAD_DISCLAIMER.
CREATE TABLE disclaimer_versions (
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    text       text        NOT NULL,
    created_by bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT disclaimer_versions_pkey PRIMARY KEY (id),
    CONSTRAINT disclaimer_versions_created_by_fkey FOREIGN KEY (created_by) REFERENCES users (id),
    CONSTRAINT disclaimer_versions_text_length CHECK (char_length(text) BETWEEN 1 AND 4000)
);

ALTER TABLE comments
    ADD COLUMN disclaimer_version bigint
        CONSTRAINT comments_disclaimer_version_fkey REFERENCES disclaimer_versions (id);

-- One row that moves with every change of the settings. Each process reads it with every article
-- it reads (at most every CARETHREAD_ARTICLE_REFRESH_MS), and reads the settings again only when
-- it has moved: no page view asks for the settings themselves.
CREATE TABLE site_settings_version (
    only_row   boolean     NOT NULL DEFAULT true,
    version    bigint      NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT site_settings_version_pkey PRIMARY KEY (only_row),
    CONSTRAINT site_settings_version_one_row CHECK (only_row)
);

INSERT INTO site_settings_version DEFAULT VALUES;
