#include "clip_image_codecs.h"
int clip_codecs_version(void) { return 0; }
