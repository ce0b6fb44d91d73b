package bus

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
)

// startEmbedded runs an in-process nats-server with JetStream file storage in
// o.StoreDir and waits until it accepts connections or ctx is done. It
// listens on o.Listen, or only in-process when that is empty. The server
// installs no signal handlers: the process owns its signals.
func startEmbedded(ctx context.Context, o Options) (*server.Server, error) {
	sopts := &server.Options{
		ServerName: "govwatch-embedded",
		JetStream:  true,
		StoreDir:   o.StoreDir,
		NoSigs:     true,
		DontListen: o.Listen == "",
	}
	if o.Listen != "" {
		host, port, err := net.SplitHostPort(o.Listen)
		if err != nil {
			return nil, fmt.Errorf("embedded listen %q: %w", o.Listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return nil, fmt.Errorf("embedded listen %q: bad port", o.Listen)
		}
		if p == 0 {
			p = server.RANDOM_PORT // nats-server reads 0 as its default port 4222
		}
		sopts.Host, sopts.Port = host, p
	}
	ns, err := server.NewServer(sopts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	ns.SetLoggerV2(serverLogger{o.Logger.Named("nats-server")}, false, false, false)
	go ns.Start()

	wait := 30 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		wait = time.Until(dl)
	}
	if !ns.ReadyForConnections(wait) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("embedded nats: not ready after %s", wait.Round(time.Millisecond))
	}
	o.Logger.Info("embedded nats server started",
		zap.String("store_dir", o.StoreDir), zap.String("client_url", clientURL(ns, o.Listen)))
	return ns, nil
}

func clientURL(ns *server.Server, listen string) string {
	if listen == "" {
		return "in-process"
	}
	return ns.ClientURL()
}

// serverLogger sends nats-server's logs to zap. Its notices (the startup
// banner, client connects) are debug, so normal operation stays quiet.
type serverLogger struct{ l *zap.Logger }

func (s serverLogger) Noticef(format string, v ...any) { s.l.Sugar().Debugf(format, v...) }
func (s serverLogger) Warnf(format string, v ...any)   { s.l.Sugar().Warnf(format, v...) }
func (s serverLogger) Fatalf(format string, v ...any)  { s.l.Sugar().Errorf(format, v...) }
func (s serverLogger) Errorf(format string, v ...any)  { s.l.Sugar().Errorf(format, v...) }
func (s serverLogger) Debugf(format string, v ...any)  { s.l.Sugar().Debugf(format, v...) }
func (s serverLogger) Tracef(format string, v ...any)  { s.l.Sugar().Debugf(format, v...) }
