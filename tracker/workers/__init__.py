"""The Kafka side: consumer-group members that turn topics into verdicts.

`loop` is the partition loop every member shares (offsets kept in PostGIS with the
results, rewinds, poison messages); `fixes` runs the vehicle rules, `filling` the
filling cross-check; `outbox` relays their events; `references` keeps geofences and
waybills current; `writer` runs the fix worker's transactions on a thread of their own.
"""
