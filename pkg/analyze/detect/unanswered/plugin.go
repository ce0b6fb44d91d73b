package unanswered

import (
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// DefaultHolidaysDir is where holiday calendars are looked for, beside the
// config file; unlike a folder named explicitly, it may be missing.
const DefaultHolidaysDir = "holidays"

// Config sets the SLA: analyzer.detectors.unanswered.
type Config struct {
	// SLAWorkdays is how many working days after the day a comment arrived
	// the account has to answer it.
	SLAWorkdays int `yaml:"sla_workdays" doc:"Working days an account has to answer a public comment or message, not counting the day it arrived (1 to 60)."`
	// Window is how long a comment's id and time are kept; commenters are
	// never stored.
	Window conf.Duration `yaml:"window" doc:"How long a comment's id and time are kept; one still unanswered after it leaves the analysis."`
	// HolidaysDir holds <year>.yaml calendars; relative to the config file.
	HolidaysDir string `yaml:"holidays_dir" doc:"Folder of <year>.yaml holiday calendars, relative to the config file; without one for a year only weekends are days off. The default folder may be missing." example:"holidays"`

	// cal is the calendar Validate loaded from HolidaysDir.
	cal *calendar.Calendar
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config {
	return Config{SLAWorkdays: 5, Window: conf.Duration(30 * 24 * time.Hour), HolidaysDir: DefaultHolidaysDir}
}

// Validate implements plugin.Validator; it loads the holiday calendars.
func (c *Config) Validate(ch *plugin.Check) {
	if c.SLAWorkdays < 1 || c.SLAWorkdays > 60 {
		ch.Errorf("sla_workdays", "must be 1 to 60 working days, not %d", c.SLAWorkdays)
	}
	// The longest run of days off (春节 with its weekends) is under two weeks.
	if min := conf.Duration(time.Duration(c.SLAWorkdays+14) * 24 * time.Hour); c.Window < min {
		ch.Errorf("window", "must be at least %s to outlast an SLA of %d working days over 春节, not %s", min, c.SLAWorkdays, c.Window)
	}
	if c.HolidaysDir == "" {
		ch.Errorf("holidays_dir", "must name the folder of <year>.yaml holiday calendars")
		return
	}
	cal, err := holidays(c.HolidaysDir, ch.Dir)
	if err != nil {
		ch.Errorf("holidays_dir", "%v", err)
		return
	}
	c.cal = cal
}

// holidays loads the calendars of dir, relative to base. A missing
// default folder is no error: the calendar then counts Monday to Friday
// only, and Years tells which years it knows.
func holidays(dir, base string) (*calendar.Calendar, error) {
	path := dir
	if !filepath.IsAbs(path) && base != "" {
		path = filepath.Join(base, path)
	}
	if _, err := os.Stat(path); os.IsNotExist(err) && dir == DefaultHolidaysDir {
		return calendar.New()
	}
	return calendar.LoadDir(path)
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "unanswered",
		Summary:   "Raises interaction.unanswered when public comments or messages stay unanswered beyond the SLA in working days.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryInteractionUnanswered, Name: "互动回应：公众留言超期未回复", Severity: model.SeverityMajor},
		},
		Templates: Templates,
		New: func(c *Config, d detect.Deps) (detect.Detector, error) {
			cal := c.cal
			if cal == nil {
				var err error
				if cal, err = holidays(c.HolidaysDir, ""); err != nil {
					return nil, err
				}
			}
			if year := d.Clock.Now().In(calendar.Shanghai).Year(); !cal.Covers(year) {
				d.Log.Warn("no holiday calendar for this year: unanswered comments are counted Monday to Friday only",
					zap.Int("year", year), zap.String("holidays_dir", c.HolidaysDir), zap.Ints("years", cal.Years()))
			}
			return New(*c, cal), nil
		},
	})
}
