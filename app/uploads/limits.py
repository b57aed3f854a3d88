"""Protocol facts: byte limits per media kind and segment rules (MiB = 1,048,576)."""

MIB = 1024 * 1024

IMAGE_BYTES = 5 * MIB
GIF_BYTES = 15 * MIB
VIDEO_BYTES = 15 * MIB
AMPLIFY_VIDEO_BYTES = 512 * MIB
# A broadcast's recording (the Producer): its own internal category, 999 segments at most.
LIVE_VIDEO_BYTES = 4 * 1024 * MIB
SUBTITLES_BYTES = 1 * MIB

SEGMENT_BYTES = 5 * MIB
MAX_SEGMENT_INDEX = 999
MAX_ADDITIONAL_OWNERS = 100
CHECK_AFTER_SECS = 1
