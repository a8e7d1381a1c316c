// Package backup writes, verifies and restores vigil backups.
//
// A backup is one file: a tar archive encrypted with age to one or more
// recipients (X25519 "age1…" keys or hybrid post-quantum "age1pq1…" keys;
// age refuses to mix the two kinds, so that a post-quantum archive is not
// silently weakened). The tar holds, in this order:
//
//	meta.json            what the archive is: node, log id, counts
//	keyring/node.pub     the checkpoint verifier key
//	keyring/node.key     the checkpoint signing key
//	keyring/secrets.key  the key that seals secrets inside events
//	checkpoint           the node's signed checkpoint the backup is cut at
//	log/000001 …         the EVENTS stream, entries 1..N, in chunks
//	checkpoints/000001 … the CHECKPOINTS stream up to N
//	vigil.db             the projection database (SQLite, VACUUM INTO)
//	manifest             SHA-256 and size of every part above, as a C2SP
//	                     signed note by the node's checkpoint key
//
// The log is exported entry by entry (subject and bytes), not as a copy of
// the JetStream store files: the export is cut exactly at a signed
// checkpoint while the node keeps writing, it can be verified without NATS
// (the Merkle tree is recomputed from the archive alone), and a restore
// re-encrypts the store under a new store key. See docs/decisions/0006.
//
// Schedule takes backups at an interval into a local directory, keeps the
// newest ones, and copies each to an SFTP server (SFTPTarget) whose host
// key is pinned in a known_hosts file.
//
// Guarantees. Backup MUST NOT hold more than one chunk (a few MiB) of the
// log in memory, whatever the log's size. Verify and Restore MUST reject an
// archive in which any byte differs from what Backup wrote, naming the part;
// Restore MUST NOT leave anything in its target directory unless the whole
// archive verified.
package backup
