package http

import (
	"encoding/base64"
	"io/fs"

	"golang.org/x/mod/sumdb/tlog"
)

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

func hashString(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }
