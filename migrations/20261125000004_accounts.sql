CREATE TYPE staff_role AS ENUM ('midwife', 'moderator', 'admin');

-- Staff accounts. There is no public sign-up: an admin (or the command line) creates them.
CREATE TABLE users (
    id                  bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT users_pkey PRIMARY KEY,
    email               text        NOT NULL,
    display_name        text        NOT NULL,
    role                staff_role  NOT NULL,
    -- NULL until the invitation is accepted.
    password_hash       text,
    -- Replies are published only by verified accounts: who verified, when, and against what.
    verified_at         timestamptz,
    verified_by         bigint      CONSTRAINT users_verified_by_fkey REFERENCES users (id),
    registration_number text,
    disabled_at         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_login_at       timestamptz,
    CONSTRAINT users_display_name_length CHECK (length(display_name) BETWEEN 1 AND 80),
    CONSTRAINT users_email_format CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 254)
);
-- Emails are compared without regard to case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- One-time links: invitations and password resets. Only a hash of the token is kept.
CREATE TYPE account_token_purpose AS ENUM ('invitation', 'password_reset');
CREATE TABLE account_tokens (
    id          bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT account_tokens_pkey PRIMARY KEY,
    user_id     bigint      NOT NULL CONSTRAINT account_tokens_user_fkey REFERENCES users (id) ON DELETE CASCADE,
    purpose     account_token_purpose NOT NULL,
    token_hash  bytea       NOT NULL CONSTRAINT account_tokens_token_hash_key UNIQUE,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    created_by  bigint      CONSTRAINT account_tokens_created_by_fkey REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Failed sign-ins, to slow down guessing. Keys are 'account:<email>' or 'address:<ip>'.
CREATE TABLE login_failures (
    id         bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT login_failures_pkey PRIMARY KEY,
    key        text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_idx ON login_failures (key, created_at);

CREATE TABLE login_lockouts (
    key        text        NOT NULL CONSTRAINT login_lockouts_pkey PRIMARY KEY,
    until      timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Sessions, in the layout tower-sessions-sqlx-store expects, kept with our own migrations so that
-- every process and every test database has it.
CREATE SCHEMA IF NOT EXISTS tower_sessions;
CREATE TABLE IF NOT EXISTS tower_sessions.session (
    id          text        PRIMARY KEY NOT NULL,
    data        bytea       NOT NULL,
    expiry_date timestamptz NOT NULL
);
