//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package caldav

import (
	"fmt"
	"os"
)

// fsLockDir opens the lock file of a data directory. This platform has no
// flock: nothing stops a second process from using the directory, which
// the embedded store does not support.
func fsLockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fsLockFilePerm)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	return f, nil
}

// fsUnlockDir closes the lock file.
func fsUnlockDir(f *os.File) error { return f.Close() }
