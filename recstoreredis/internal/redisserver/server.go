// Package redisserver starts a throw-away redis-server on 127.0.0.1 for
// the tests, benchmarks and example of recstoreredis: a real server, no
// persistence, on a free port, stopped and restarted on demand.
package redisserver

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// ErrNotInstalled reports that no redis-server binary is on the PATH.
var ErrNotInstalled = errors.New("redis-server is not installed (apt-get install redis-server)")

// A Server is a redis-server process this package started.
type Server struct {
	bin  string
	port int

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Start runs redis-server on a free 127.0.0.1 port and waits until it
// answers PING.
func Start() (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("redisserver: finding a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	srv := &Server{bin: bin, port: port}
	if err := srv.start(); err != nil {
		return nil, err
	}
	return srv, nil
}

// Addr is the server's host:port.
func (srv *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.port)) }

func (srv *Server) start() error {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	cmd := exec.Command(srv.bin, "--port", strconv.Itoa(srv.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
		"--dir", os.TempDir())
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redisserver: starting %s: %w", srv.bin, err)
	}
	srv.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ping(srv.Addr()) == nil {
			return nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			srv.cmd = nil
			return fmt.Errorf("redisserver: %s did not answer PING on %s within 10s", srv.bin, srv.Addr())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop kills the server (as a crash would: SIGKILL) and waits for it to
// exit. Stopping a stopped server does nothing.
func (srv *Server) Stop() {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.cmd == nil {
		return
	}
	_ = srv.cmd.Process.Kill()
	_ = srv.cmd.Wait()
	srv.cmd = nil
}

// Restart starts a stopped server again on the same port, empty (it keeps
// nothing on disk). A running one is stopped first.
func (srv *Server) Restart() error {
	srv.Stop()
	return srv.start()
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("redisserver: PING answered %q", line)
	}
	return nil
}
