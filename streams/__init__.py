"""Stream processing: the Kafka plumbing, topic names and the settled vocabularies."""
