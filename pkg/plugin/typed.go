package plugin

import "reflect"

// Validator is implemented by a plugin's config type (on its pointer) to
// check its values; see the package doc for when it runs.
type Validator interface {
	Validate(c *Check)
}

// AccountValidator is implemented by a source's account options type (on
// its pointer) to check an account's options against the source's config C.
type AccountValidator[C any] interface {
	Validate(c *AccountCheck, cfg *C)
}

// Configure returns Spec.Config and Spec.Validate for config type C: a new
// *C holding the defaults (the zero value when defaults is nil), and a
// validation calling (*C).Validate when C has one. A C with no fields has
// no settings: both are nil.
func Configure[C any](defaults func() C) (config func() any, validate func(any, *Check)) {
	if t := reflect.TypeFor[C](); t.Kind() == reflect.Struct && t.NumField() == 0 {
		return nil, nil
	}
	config = func() any {
		c := new(C)
		if defaults != nil {
			*c = defaults()
		}
		return c
	}
	validate = func(cfg any, ch *Check) {
		if v, ok := cfg.(Validator); ok {
			v.Validate(ch)
		}
	}
	return config, validate
}

// ConfigureAccount returns Spec.Account and Spec.ValidateAccount for a
// source whose config type is C and whose account options type is A.
func ConfigureAccount[C, A any](defaults func() A) (account func() any, validate func(opts, cfg any, c *AccountCheck)) {
	account = func() any {
		a := new(A)
		if defaults != nil {
			*a = defaults()
		}
		return a
	}
	validate = func(opts, cfg any, ch *AccountCheck) {
		v, ok := opts.(AccountValidator[C])
		if !ok {
			return
		}
		c, _ := cfg.(*C)
		if c == nil {
			c = new(C) // a source without settings
		}
		v.Validate(ch, c)
	}
	return account, validate
}

// Config returns cfg as the *C a plugin's constructor takes: the config
// pkg/config decoded, or C's zero value for a plugin without settings.
func Config[C any](cfg any) *C {
	if c, ok := cfg.(*C); ok && c != nil {
		return c
	}
	return new(C)
}
