package notices

import (
	"context"
	"time"
)

// Message is one e-mail as the Mailer sends it.
type Message struct {
	To      string // "Name <address>" or an address
	Subject string
	Text    string // plain text body
	HTML    string // HTML body ("" for none)
	// Calendar is an iCalendar object (RFC 6047 iMIP) sent as the
	// text/calendar alternative with its METHOD (REQUEST or CANCEL);
	// empty for none.
	Calendar []byte
	Method   string
	// Attachments are further .ics files (the daily digest's), each
	// sent as application/ics.
	Attachments []Attachment
	MessageID   string // without angle brackets
	Date        time.Time
	// Unsubscribe is the link that turns this kind of notice off (the
	// List-Unsubscribe header, with one-click POST), "" for none.
	Unsubscribe string
	// Settings, for a message with no one kind to turn off (the daily
	// digest), is the page where the member chooses their notices: the
	// List-Unsubscribe header without one-click. Ignored with Unsubscribe.
	Settings string
	Lang     string // Content-Language
}

// Attachment is a named file of a Message.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Mailer sends messages (the SMTP adapter, internal/mail).
type Mailer interface {
	Send(ctx context.Context, m Message) error
}
