-- A failed sign-in is counted against the account from one address (so a stranger's guesses lock
-- out the stranger, not the owner), and the account as a whole only when failures come from many
-- addresses. `source` is a keyed hash of the client address, never the address itself.
ALTER TABLE login_failures ADD COLUMN source bytea;

-- Keys used to hold the address in clear; the old rows and lockouts expire within a day.
DELETE FROM login_failures;
DELETE FROM login_lockouts;
