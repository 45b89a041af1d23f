package provisioning

import "errors"

// ParseXML parses a snom XML setting file. (Being written.)
func ParseXML(data []byte, name string) (*File, error) {
	return nil, &SettingError{File: name, Err: errors.New("XML not yet supported")}
}
