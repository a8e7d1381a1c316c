// Package ledger makes the event log tamper-evident.
//
// Every log entry is a leaf of an RFC 6962 Merkle tree (the hashing of
// golang.org/x/mod/sumdb/tlog). A node signs checkpoints of the tree in the
// C2SP signed-note checkpoint format with its Ed25519 key; anyone holding a
// checkpoint can check that a later tree extends it (a consistency proof) and
// that an entry is in it (an inclusion proof).
//
// The tree's interior hashes are kept in an append-only file in tlog's
// stored-hash order, so proofs need O(log n) reads and a restart needs none
// of the entries. The file is derived data: it MAY be lost or truncated and
// is rebuilt from the log; it is never trusted by Verify, which recomputes
// everything from the entries themselves.
package ledger
