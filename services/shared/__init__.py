"""Infrastructure shared by every service: settings, database, messaging, the embedded broker."""
