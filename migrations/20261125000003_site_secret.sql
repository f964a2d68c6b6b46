-- One secret per site, shared by every process that serves it, so a form opened on one process can
-- be posted to another. Made here so a fresh install needs no key to be configured.
-- gen_random_uuid() draws from PostgreSQL's strong random source; four of them give 488 random bits.
CREATE TABLE site_secret (
    id         boolean     NOT NULL DEFAULT true CONSTRAINT site_secret_pkey PRIMARY KEY,
    secret     bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT site_secret_single_row CHECK (id)
);

INSERT INTO site_secret (secret)
SELECT decode(string_agg(replace(gen_random_uuid()::text, '-', ''), ''), 'hex')
FROM generate_series(1, 4);
