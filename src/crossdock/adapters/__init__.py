"""Format codecs (X12, XML, JSON) and transports. Imports ``crossdock.schemas`` only."""
