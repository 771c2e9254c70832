//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package caldav

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// fsLockDir takes an exclusive lock (flock) on the lock file of a data
// directory, so that one FileStore at a time, in any process, uses it.
// The lock goes with the process if it dies.
func fsLockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fsLockFilePerm)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errors.New("data directory is in use by another file store")
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// The owner's pid, for whoever finds the directory locked.
	if err := f.Truncate(0); err == nil {
		_, _ = fmt.Fprintf(f, "%d\n", os.Getpid())
	}
	return f, nil
}

// fsUnlockDir releases the lock taken by fsLockDir.
func fsUnlockDir(f *os.File) error {
	uerr := syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return errors.Join(uerr, f.Close())
}
