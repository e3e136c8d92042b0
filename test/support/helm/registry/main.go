// An OCI registry for the helm job's tests: go-containerregistry's in-memory registry (pkg/registry)
// behind an optional Basic-auth check, listening on 127.0.0.1, over HTTPS with -cert/-key. It prints "listening on HOST:PORT" once
// it accepts connections, and with -log appends every request's method, path and headers (the leak
// scan reads what reached the registry).
package main

import (
	"crypto/subtle"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	address := flag.String("listen", "127.0.0.1:0", "address to listen on")
	user := flag.String("user", "", "require Basic auth with this user name")
	password := flag.String("password-file", "", "file holding the password for -user")
	logPath := flag.String("log", "", "append each request's method, path and headers to this file")
	certFile := flag.String("cert", "", "serve HTTPS with this certificate (PEM)")
	keyFile := flag.String("key", "", "and this private key (PEM)")
	flag.Parse()

	var secret string
	if *user != "" {
		data, err := os.ReadFile(*password)
		if err != nil {
			log.Fatalf("reading -password-file: %v", err)
		}
		secret = strings.TrimRight(string(data), "\n")
	}
	var requestLog *os.File
	if *logPath != "" {
		var err error
		requestLog, err = os.OpenFile(*logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			log.Fatalf("opening -log: %v", err)
		}
	}
	var logLock sync.Mutex
	inner := registry.New(registry.Logger(log.New(os.Stderr, "registry ", 0)))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requestLog != nil {
			logLock.Lock()
			names := make([]string, 0, len(r.Header))
			for name := range r.Header {
				names = append(names, name)
			}
			sort.Strings(names)
			fmt.Fprintf(requestLog, "%s %s\n", r.Method, r.URL.String())
			for _, name := range names {
				fmt.Fprintf(requestLog, "  %s: %s\n", name, strings.Join(r.Header[name], ", "))
			}
			logLock.Unlock()
		}
		if *user != "" {
			givenUser, givenPassword, ok := r.BasicAuth()
			if !ok || subtle.ConstantTimeCompare([]byte(givenUser), []byte(*user)) != 1 ||
				subtle.ConstantTimeCompare([]byte(givenPassword), []byte(secret)) != 1 {
				w.Header().Set("WWW-Authenticate", `Basic realm="aws-oidc-deploy-test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
		}
		inner.ServeHTTP(w, r)
	})
	listener, err := net.Listen("tcp", *address)
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	fmt.Printf("listening on %s\n", listener.Addr().String())
	os.Stdout.Sync()
	if *certFile != "" {
		log.Fatal(http.ServeTLS(listener, handler, *certFile, *keyFile))
	}
	log.Fatal(http.Serve(listener, handler))
}
