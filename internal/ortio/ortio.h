// C side of package ortio: thin wrappers over the OrtApi table that return a
// malloc'ed error message (NULL on success), so that Go never handles an
// OrtStatus.
#include "ortapi.h"

char* ortio_init(const char* lib);
const char* ortio_version(void);
char* ortio_ep_devices(const OrtEpDevice* const** devs, size_t* n);
const char* ortio_ep_name(const OrtEpDevice* d);
const char* ortio_ep_vendor(const OrtEpDevice* d);
char* ortio_session(const char* path, const void* model, size_t model_len, int threads, const OrtEpDevice* dev,
                    const char* const* keys, const char* const* vals, size_t nkv, const char* const* ckeys,
                    const char* const* cvals, size_t nc, OrtSession** out);
char* ortio_allocators(const OrtEpDevice* dev, OrtAllocator** device, OrtAllocator** host, int* pinned);
char* ortio_tensor(OrtAllocator* a, const int64_t* shape, size_t rank, int type, OrtValue** out, void** data);
char* ortio_binding(OrtSession* s, OrtIoBinding** b);
char* ortio_bind(OrtIoBinding* b, int output, const char* name, OrtValue* v);
char* ortio_copy(OrtValue* src, OrtValue* dst);
char* ortio_run(OrtSession* s, OrtIoBinding* b);
void ortio_release_value(OrtValue* v);
void ortio_release_binding(OrtIoBinding* b);
void ortio_release_session(OrtSession* s);
char* ortio_output_shape(OrtSession* s, const char* name, int64_t* dims, size_t cap, long* rank);
