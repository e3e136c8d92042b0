// The etcd command: what go.etcd.io/etcd/v3's own main.go does (that module's go.mod points its
// submodules at local paths, so it cannot be built from the module proxy).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
