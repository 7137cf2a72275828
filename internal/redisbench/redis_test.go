package redisbench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
)

// redisAddr is the address of the redis-server started by TestMain, or ""
// when it could not be started; skipReason then says why.
var (
	redisAddr  string
	skipReason string
)

func TestMain(m *testing.M) {
	stop, err := startRedis()
	if err != nil {
		skipReason = err.Error()
	}
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

// needRedis skips tb when no redis-server is available and returns its address.
func needRedis(tb testing.TB) string {
	tb.Helper()
	if redisAddr == "" {
		tb.Skipf("redisbench: %s", skipReason)
	}
	return redisAddr
}

// startRedis starts a throw-away redis-server (no persistence) on a free
// 127.0.0.1 port and returns a function that stops it.
func startRedis() (func(), error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server is not installed (not found in PATH); install it to run these tests and benchmarks")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("finding a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()

	cmd := exec.Command(bin,
		"--port", fmt.Sprint(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--loglevel", "warning",
	)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting redis-server: %w", err)
	}
	waited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(waited) }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-waited
		}
	}

	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if ping(addr) == nil {
			redisAddr = addr
			return stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("redis-server on %s did not answer PING within 5s", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("unexpected reply %q", line)
	}
	return nil
}

func TestRedisStarted(t *testing.T) {
	require.NoError(t, ping(needRedis(t)))
}

// killPubSubClients closes every subscriber connection on the server,
// simulating a network failure for the pub/sub receivers.
func killPubSubClients(t *testing.T, addr string) {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	n, err := c.ClientKillByFilter(context.Background(), "TYPE", "pubsub").Result()
	require.NoError(t, err)
	require.Positive(t, n)
}

// TestGoRedisReconnectSurfaced checks how go-redis tells the caller that its
// PubSub reconnected: ChannelWithSubscriptions delivers a fresh
// *redis.Subscription{Kind: "subscribe"} after the automatic re-subscribe.
func TestGoRedisReconnectSurfaced(t *testing.T) {
	addr := needRedis(t)
	ctx := context.Background()
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	ps := c.Subscribe(ctx, "gr-reconnect")
	defer ps.Close()
	ch := ps.ChannelWithSubscriptions()

	waitSubscribe := func() {
		t.Helper()
		for {
			select {
			case m := <-ch:
				if s, ok := m.(*goredis.Subscription); ok && s.Kind == "subscribe" {
					return
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no subscribe confirmation within 5s")
			}
		}
	}
	waitSubscribe()
	killPubSubClients(t, addr)
	waitSubscribe() // the re-subscribe after the reconnect is visible

	require.NoError(t, c.Publish(ctx, "gr-reconnect", "after").Err())
	select {
	case m := <-ch:
		require.Equal(t, "after", m.(*goredis.Message).Payload)
	case <-time.After(5 * time.Second):
		t.Fatal("message after reconnect not received")
	}
}

// TestRueidisReconnectSurfaced checks how rueidis tells the caller that
// Client.Receive re-subscribed: the hook given by rueidis.WithOnSubscriptionHook
// is called again with Kind "subscribe".
func TestRueidisReconnectSurfaced(t *testing.T) {
	addr := needRedis(t)
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	require.NoError(t, err)
	defer c.Close()

	subs := make(chan rueidis.PubSubSubscription, 8)
	msgs := make(chan string, 8)
	returned := make(chan error, 8)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		hctx := rueidis.WithOnSubscriptionHook(ctx, func(s rueidis.PubSubSubscription) { subs <- s })
		// Called each time the per-connection receive ends, including a
		// dropped connection that Client.Receive then retries.
		hctx = rueidis.WithOnReceiveReturnHook(hctx, func(err error, _ rueidis.CommandClient) error {
			returned <- err
			return err
		})
		_ = c.Receive(hctx, c.B().Subscribe().Channel("ru-reconnect").Build(), func(m rueidis.PubSubMessage) {
			msgs <- m.Message
		})
	}()
	defer func() { cancel(); wg.Wait() }()

	waitSubscribe := func() {
		t.Helper()
		for {
			select {
			case s := <-subs:
				if s.Kind == "subscribe" {
					return
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no subscribe confirmation within 5s")
			}
		}
	}
	waitSubscribe()
	killPubSubClients(t, addr)
	waitSubscribe() // Receive retried on a new connection and re-subscribed
	select {
	case err := <-returned:
		require.Error(t, err, "the dropped connection is reported to the return hook")
	default:
		t.Fatal("WithOnReceiveReturnHook was not called for the dropped connection")
	}

	require.NoError(t, c.Do(context.Background(), c.B().Publish().Channel("ru-reconnect").Message("after").Build()).Error())
	select {
	case m := <-msgs:
		require.Equal(t, "after", m)
	case <-time.After(5 * time.Second):
		t.Fatal("message after reconnect not received")
	}
}

// TestRueidisDedicatedHooksLost checks the other rueidis pub/sub API: with a
// DedicatedClient and SetPubSubHooks, a lost connection closes the returned
// error channel (with the cause) and nothing re-subscribes.
func TestRueidisDedicatedHooksLost(t *testing.T) {
	addr := needRedis(t)
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	require.NoError(t, err)
	defer c.Close()
	dc, release := c.Dedicate()
	defer release()
	subscribed := make(chan struct{}, 1)
	errs := dc.SetPubSubHooks(rueidis.PubSubHooks{
		OnMessage:      func(rueidis.PubSubMessage) {},
		OnSubscription: func(rueidis.PubSubSubscription) { subscribed <- struct{}{} },
	})
	require.NoError(t, dc.Do(context.Background(), dc.B().Subscribe().Channel("ru-dedicated").Build()).Error())
	<-subscribed
	killPubSubClients(t, addr)
	select {
	case err, ok := <-errs:
		t.Logf("error channel delivered err=%v open=%v", err, ok)
	case <-time.After(5 * time.Second):
		t.Fatal("error channel not closed after the connection was killed")
	}
}
