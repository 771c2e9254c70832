package main

// Where the machine's CPU went during a timed load: the roomcal binary,
// Radicale, Redis, the load generator itself, and the rest of the
// machine (other jobs on the shared cores). Read from /proc (Linux).

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of /proc's CPU times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// procCPU returns the user and system time a process used so far (0
// when it cannot be read).
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis (utime and stime are fields 14 and
	// 15 of the line, 12 and 13 after it).
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * clockTick
}

// selfCPU is the user and system time of this process so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineCPU is the CPU time every core spent busy so far (user, nice,
// system, irq, softirq; not idle, iowait or steal).
func machineCPU() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7} {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		busy += n
	}
	return time.Duration(busy) * clockTick
}

// findProc returns the pid of a process whose command line holds every
// one of parts (0 when there is none).
func findProc(parts ...string) int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil {
			continue
		}
		cmd := strings.ReplaceAll(string(data), "\x00", " ")
		all := true
		for _, p := range parts {
			all = all && strings.Contains(cmd, p)
		}
		if all {
			pid, _ := strconv.Atoi(filepath.Base(d))
			return pid
		}
	}
	return 0
}

// serverPIDs finds the Radicale and redis-server that `make bench`
// started, by the loopback ports of their URLs.
func serverPIDs(radicale, redisURL string) (radicalePID, redisPID int) {
	if u, err := url.Parse(radicale); err == nil {
		radicalePID = findProc("radicale", "--server-hosts="+u.Host)
	}
	if u, err := url.Parse(redisURL); err == nil {
		redisPID = findProc("redis-server", u.Host)
	}
	return radicalePID, redisPID
}

// cpuShares are the CPU times of a timed load, read before and after.
type cpuShares struct {
	roomcal, radicale, redis, self, machine time.Duration
	wall                                    time.Duration
}

// cpuProbe reads the CPU times of the processes that matter.
type cpuProbe struct {
	roomcalPID, radicalePID, redisPID int
}

func (p cpuProbe) read() cpuShares {
	return cpuShares{roomcal: procCPU(p.roomcalPID), radicale: procCPU(p.radicalePID), redis: procCPU(p.redisPID),
		self: selfCPU(), machine: machineCPU(), wall: time.Duration(time.Now().UnixNano())}
}

// since is the CPU used between two readings.
func (c cpuShares) since(before cpuShares) cpuShares {
	return cpuShares{roomcal: c.roomcal - before.roomcal, radicale: c.radicale - before.radicale, redis: c.redis - before.redis,
		self: c.self - before.self, machine: c.machine - before.machine, wall: c.wall - before.wall}
}

// String gives each share in cores (CPU seconds per second).
func (c cpuShares) String() string {
	if c.wall <= 0 {
		return "unknown"
	}
	cores := func(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()/c.wall.Seconds()) }
	rest := c.machine - c.roomcal - c.radicale - c.redis - c.self
	parts := []string{"roomcal " + cores(c.roomcal)}
	if c.radicale > 0 {
		parts = append(parts, "Radicale "+cores(c.radicale))
	}
	if c.redis > 0 {
		parts = append(parts, "Redis "+cores(c.redis))
	}
	parts = append(parts, "load generator "+cores(c.self), "rest "+cores(max(rest, 0)))
	return strings.Join(parts, ", ")
}
