-- One comment per submitted form. A guest's form carries a signed stamp that is new each time the
-- form is shown; the key is a hash of that stamp with the reply target and the text, so a double
-- click or a browser retry of the same form stores nothing new, while a different comment sent
-- from the same page is a different key.
ALTER TABLE comments ADD COLUMN submission_key bytea;

CREATE UNIQUE INDEX comments_submission_key ON comments (submission_key) WHERE submission_key IS NOT NULL;
