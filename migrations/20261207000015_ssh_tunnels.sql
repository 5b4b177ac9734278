-- SSH tunnels per connection (issue 23): the SSH server, its user, a private key file (or a
-- password, in the keyring like the key's passphrase) and the host key pinned on first use.
-- All NULL: the connection reaches the database directly.
ALTER TABLE connections ADD COLUMN ssh_host TEXT;
ALTER TABLE connections ADD COLUMN ssh_port INTEGER;
ALTER TABLE connections ADD COLUMN ssh_username TEXT;
ALTER TABLE connections ADD COLUMN ssh_key_file TEXT;
ALTER TABLE connections ADD COLUMN ssh_host_key TEXT;
