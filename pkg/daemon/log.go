package daemon

import (
	"context"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/govwatch/govwatch/pkg/config"
)

// NewLogger builds the process logger: JSON by default, human-readable
// console output with dev (or log.format: console).
func NewLogger(c config.LogConfig, dev bool) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(c.Level)
	if err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	zc := zap.NewProductionConfig()
	if dev || c.Format == "console" {
		zc = zap.NewDevelopmentConfig()
		zc.Development = false
		zc.DisableStacktrace = true
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		if !dev {
			zc.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
		}
	}
	if dev {
		level = min(level, zapcore.DebugLevel)
	}
	zc.Level = zap.NewAtomicLevelAt(level)
	zc.OutputPaths = []string{"stderr"}
	zc.ErrorOutputPaths = []string{"stderr"}
	return zc.Build()
}

// LibraryLogs sends what libraries print on their own — go-redis's pool and
// reconnection messages — through log, so the stream stays one JSON object
// a line. go-redis keeps one logger per process, so the process's entry
// point calls this once.
func LibraryLogs(log *zap.Logger) {
	goredis.SetLogger(redisLogger{log.Named("redis")})
}

// redisLogger is go-redis's Logging on zap: its messages are warnings (a
// dial or pool failure, a node moved).
type redisLogger struct{ log *zap.Logger }

func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprintf(format, v...)))
}
