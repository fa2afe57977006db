// Command okrd turns a product team's objectives and key results into live,
// measured numbers. main parses the command line, sets up logging and
// signals, and hands over to package app.
package main

import (
	"os"

	// Every built-in source type.
	_ "github.com/okrd/okrd/collectors/all"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
