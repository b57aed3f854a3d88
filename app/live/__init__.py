"""The Producer: live sources and broadcasts (X Livestream API wire, producer-api.md §8),
RTMP/RTMPS ingest by nginx's RTMP module, the preview, Publish Now and the recording that
becomes library media.

Pure rules in ``rules`` (the broadcast state machine, vocabularies) and ``compat`` (the
stream's attributes against the live specs); services in ``access`` (who may act),
``service`` (sources and broadcasts), ``views`` (what the wire is given), ``hooks`` (what
nginx reports), ``monitor`` (timers, probes, pulls), ``recording`` (the job that turns a
recording into media), ``nginx`` (the ingest server's config and process) and ``viewers``
(who watches the live playlist).
"""
