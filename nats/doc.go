// Package nats runs vigil's event log on NATS JetStream: an embedded server
// (standalone; cluster and leaf-node configurations are data in Config) or a
// connection to an external cluster, the streams vigil expects, and the Log
// that appends entries and reads them back in order.
//
// Durability contract: Append returns only after JetStream acknowledged the
// entry. On an embedded node the store runs with SyncAlways, so an
// acknowledged entry has been fsynced and survives kill -9 and power loss; on
// a cluster the stream has three replicas and an acknowledged entry is on a
// quorum.
package nats
