package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the goroutines that copy a
// process's output into it while the runner reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ownProcess is a provider binary the runner starts itself, the way the
// engine's plugin.ExecPlugin does: its own process group, the runner's
// environment, and the engine's gRPC address as the only argument.
type ownProcess struct {
	cmd    *exec.Cmd
	stdout io.ReadCloser
	exited chan struct{}
	// waitErr is cmd.Wait's result, readable once exited is closed.
	waitErr error
}

func startOwn(binary, engineAddr, dir string, stderr io.Writer) (*ownProcess, error) {
	return startOwnArgs(binary, []string{engineAddr}, dir, stderr)
}

// startOwnArgs starts binary with args (none: as a user starts a provider to
// attach to).
func startOwnArgs(binary string, args []string, dir string, stderr io.Writer) (*ownProcess, error) {
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &ownProcess{cmd: cmd, stdout: stdout, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// firstLine reads stdout up to the first newline, waiting at most timeout.
// It returns what it read (without the newline) and whether a newline came.
func (p *ownProcess) firstLine(timeout time.Duration) (line string, complete bool, err error) {
	type read struct {
		line string
		err  error
	}
	ch := make(chan read, 1)
	go func() {
		r := bufio.NewReader(p.stdout)
		s, err := r.ReadString('\n')
		ch <- read{s, err}
		// Keep draining so the provider never blocks on a full pipe.
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case res := <-ch:
		if strings.HasSuffix(res.line, "\n") {
			return strings.TrimSuffix(res.line, "\n"), true, nil
		}
		return res.line, false, res.err
	case <-time.After(timeout):
		return "", false, fmt.Errorf("no complete line on stdout within %s", timeout)
	}
}

// kill ends the whole process group and waits for the process.
func (p *ownProcess) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
	}
}

// checkPortLine is startup.port_line: the first stdout line must be a
// decimal port within 10 s, with nothing else before it.
func checkPortLine(rep *report, subject, binary, engineAddr, dir string, stderr io.Writer) {
	const check = "startup.port_line"
	start := time.Now()
	p, err := startOwn(binary, engineAddr, dir, stderr)
	if err != nil {
		rep.fail(check, subject, "could not start "+binary+": "+err.Error())
		return
	}
	defer p.kill()
	line, complete, err := p.firstLine(10 * time.Second)
	elapsed := time.Since(start).Round(time.Millisecond)
	if err != nil && !complete {
		detail := err.Error()
		if line != "" {
			detail += fmt.Sprintf(" (read %q)", clip(line, 80))
		}
		select {
		case <-p.exited:
			detail += "; the process exited: " + exitText(p.waitErr)
		default:
		}
		rep.fail(check, subject, detail)
		return
	}
	port, perr := strictPort(line)
	if perr != nil {
		rep.fail(check, subject, fmt.Sprintf("first stdout line %q: %v", clip(line, 80), perr))
		return
	}
	detail := fmt.Sprintf("port %d after %s", port, elapsed)
	conn, derr := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 2*time.Second)
	if derr != nil {
		rep.fail(check, subject, detail+", but nothing accepts connections there: "+derr.Error())
		return
	}
	_ = conn.Close()
	rep.pass(check, subject, detail+", accepting connections")
}

// strictPort accepts only a decimal port number, optionally followed by a
// carriage return; the engine tolerates a little more (surrounding spaces,
// two terminal progress sequences) but nothing a provider should rely on.
func strictPort(line string) (int, error) {
	s := strings.TrimSuffix(line, "\r")
	if s == "" {
		return 0, errors.New("empty line")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errors.New("not a decimal number")
		}
	}
	port, err := strconv.Atoi(s)
	if err != nil || port <= 0 || port > 65535 {
		return 0, errors.New("not a port number between 1 and 65535")
	}
	return port, nil
}

// checkSigint is startup.sigint: after the port line, a SIGINT to the
// process group must end the provider within 5 s.
func checkSigint(rep *report, subject, binary, engineAddr, dir string, stderr io.Writer) {
	const check = "startup.sigint"
	p, err := startOwn(binary, engineAddr, dir, stderr)
	if err != nil {
		rep.fail(check, subject, "could not start "+binary+": "+err.Error())
		return
	}
	defer p.kill()
	line, complete, err := p.firstLine(10 * time.Second)
	if !complete {
		rep.fail(check, subject, fmt.Sprintf("no port line to wait for: %v", err))
		return
	}
	// The engine interrupts a provider it has been using, never one that has
	// just printed its port: wait until the port accepts connections and the
	// provider has had a moment to settle, so the check sees the provider's
	// steady-state handling of SIGINT rather than a start-up race.
	if port, err := strictPort(line); err == nil {
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 200*time.Millisecond)
			if err == nil {
				_ = conn.Close()
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(250 * time.Millisecond)
	sent := time.Now()
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT); err != nil {
		rep.fail(check, subject, "could not send SIGINT: "+err.Error())
		return
	}
	select {
	case <-p.exited:
		rep.pass(check, subject, fmt.Sprintf("exited %s after SIGINT (%s)",
			time.Since(sent).Round(time.Millisecond), exitText(p.waitErr)))
	case <-time.After(5 * time.Second):
		rep.fail(check, subject, "still running 5 s after SIGINT; the engine would SIGKILL it")
	}
}

func exitText(err error) string {
	if err == nil {
		return "status 0"
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by " + ws.Signal().String()
		}
		return fmt.Sprintf("status %d", exit.ExitCode())
	}
	return err.Error()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
