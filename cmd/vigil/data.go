package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil/node"
)

const defaultData = "./vigil-data"

// timeNow is the wall clock; commands read it once.
func timeNow() time.Time { return time.Now() }

func dataFlag(c *cobra.Command, dst *string) {
	c.Flags().StringVar(dst, "data", defaultData, "the node's data directory")
}

// openNode opens dir for a command and closes it with Main.
func (m *Main) openNode(ctx context.Context, o node.Options) (*node.Node, error) {
	n, err := node.Open(ctx, o)
	if err != nil {
		return nil, err
	}
	m.onClose(n.Close)
	return n, nil
}
