// Placeholder: the JPEG/PNG decoding shim is being written (see issue 2).
#ifndef CLIP_IMAGE_CODECS_H
#define CLIP_IMAGE_CODECS_H
int clip_codecs_version(void);
#endif
