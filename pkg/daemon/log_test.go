package daemon

import (
	"context"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// TestRedisLogsAreStructured: go-redis's messages become one zap entry
// each, without the trailing newline of its printf lines.
func TestRedisLogsAreStructured(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	redisLogger{zap.New(core).Named("redis")}.Printf(context.Background(), "redis: %s: connection pool: failed to dial after %d attempts: %v\n", "10.0.0.1:6379", 5, "refused")
	got := logs.All()
	if len(got) != 1 || got[0].Message != "redis: 10.0.0.1:6379: connection pool: failed to dial after 5 attempts: refused" ||
		got[0].Level != zap.WarnLevel || got[0].LoggerName != "redis" {
		t.Errorf("logged %+v", got)
	}
}
