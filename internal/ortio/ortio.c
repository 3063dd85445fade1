#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ortio.h"

// The oldest API with everything used here (EP devices, shared allocators,
// CopyTensors): ONNX Runtime 1.23. The table is append-only, so asking for
// this version works with every later release.
#define ORTIO_MIN_API 23

static const OrtApi* api;
static const OrtApiBase* base;
static OrtEnv* env;

static char* take(OrtStatus* st) {
  if (!st) return NULL;
  char* m = strdup(api->GetErrorMessage(st));
  api->ReleaseStatus(st);
  return m;
}

static char* msg(const char* format, const char* arg) {
  size_t n = strlen(format) + (arg ? strlen(arg) : 0) + 1;
  char* m = malloc(n);
  snprintf(m, n, format, arg ? arg : "");
  return m;
}

char* ortio_init(const char* lib) {
  if (api) return NULL;
  // The library onnxruntime_go loaded already: dlopen returns the same
  // handle, so the environment below is the process's one (ORT keeps a
  // single OrtEnv and hands it out again).
  void* h = dlopen(lib, RTLD_NOW | RTLD_GLOBAL);
  if (!h) return msg("%s", dlerror());
  const OrtApiBase* (*get_base)(void) = (const OrtApiBase* (*)(void))dlsym(h, "OrtGetApiBase");
  if (!get_base) return msg("%s has no OrtGetApiBase", lib);
  base = get_base();
  const OrtApi* a = base->GetApi(ORTIO_MIN_API);
  if (!a) return msg("ONNX Runtime %s is older than 1.23, which IO binding on the device needs", base->GetVersionString());
  api = a;
  return take(api->CreateEnv(ORTIO_ORT_LOGGING_LEVEL_ERROR, "addsr-bench", &env));
}

const char* ortio_version(void) { return base ? base->GetVersionString() : ""; }

char* ortio_ep_devices(const OrtEpDevice* const** devs, size_t* n) { return take(api->GetEpDevices(env, devs, n)); }
const char* ortio_ep_name(const OrtEpDevice* d) { return api->EpDevice_EpName(d); }
const char* ortio_ep_vendor(const OrtEpDevice* d) { return api->EpDevice_EpVendor(d); }

// A session of the graph at path, or of the model bytes when model is not
// NULL; ckeys/cvals are session configuration entries (such as
// optimization.disable_specified_optimizers).
char* ortio_session(const char* path, const void* model, size_t model_len, int threads, const OrtEpDevice* dev,
                    const char* const* keys, const char* const* vals, size_t nkv, const char* const* ckeys,
                    const char* const* cvals, size_t nc, OrtSession** out) {
  OrtSessionOptions* so = NULL;
  char* e = take(api->CreateSessionOptions(&so));
  if (e) return e;
  if (threads > 0) e = take(api->SetIntraOpNumThreads(so, threads));
  for (size_t i = 0; !e && i < nc; i++) e = take(api->AddSessionConfigEntry(so, ckeys[i], cvals[i]));
  if (!e && dev) e = take(api->SessionOptionsAppendExecutionProvider_V2(so, env, &dev, 1, keys, vals, nkv));
  if (!e) e = take(model ? api->CreateSessionFromArray(env, model, model_len, so, out) : api->CreateSession(env, path, so, out));
  api->ReleaseSessionOptions(so);
  return e;
}

// The device's own memory (the CPU's for dev == NULL or an EP that works in
// CPU memory) and, for staging, its host-accessible (pinned) memory where the
// EP offers one, else ordinary CPU memory.
char* ortio_allocators(const OrtEpDevice* dev, OrtAllocator** device, OrtAllocator** host, int* pinned) {
  *device = *host = NULL;
  *pinned = 0;
  char* e = take(api->GetAllocatorWithDefaultOptions(host));
  if (e) return e;
  const OrtMemoryInfo* mi = dev ? api->EpDevice_MemoryInfo(dev, ORTIO_OrtDeviceMemoryType_DEFAULT) : NULL;
  if (!mi) {
    *device = *host;
    return NULL;
  }
  if ((e = take(api->GetSharedAllocator(env, mi, device)))) return e;
  if (!*device) return msg("%s offers no shared allocator for its memory", api->EpDevice_EpName(dev));
  const OrtMemoryInfo* hi = api->EpDevice_MemoryInfo(dev, ORTIO_OrtDeviceMemoryType_HOST_ACCESSIBLE);
  OrtAllocator* h = NULL;
  if (hi && !(e = take(api->GetSharedAllocator(env, hi, &h))) && h) {
    *host = h;
    *pinned = 1;
  }
  free(e);  // no pinned memory: ordinary CPU memory stages the copies
  return NULL;
}

char* ortio_tensor(OrtAllocator* a, const int64_t* shape, size_t rank, int type, OrtValue** out, void** data) {
  char* e = take(api->CreateTensorAsOrtValue(a, shape, rank, type, out));
  if (!e && data) e = take(api->GetTensorMutableData(*out, data));
  return e;
}

char* ortio_binding(OrtSession* s, OrtIoBinding** b) { return take(api->CreateIoBinding(s, b)); }

char* ortio_bind(OrtIoBinding* b, int output, const char* name, OrtValue* v) {
  return take(output ? api->BindOutput(b, name, v) : api->BindInput(b, name, v));
}

char* ortio_copy(OrtValue* src, OrtValue* dst) { return take(api->CopyTensors(env, (const OrtValue* const*)&src, &dst, NULL, 1)); }

char* ortio_run(OrtSession* s, OrtIoBinding* b) { return take(api->RunWithBinding(s, NULL, b)); }

void ortio_release_value(OrtValue* v) { if (v) api->ReleaseValue(v); }
void ortio_release_binding(OrtIoBinding* b) { if (b) api->ReleaseIoBinding(b); }
void ortio_release_session(OrtSession* s) { if (s) api->ReleaseSession(s); }

// The dimensions ONNX Runtime gives the session's output `name` (-1: not
// known), at most cap of them; *rank gets their count, -1 when the session
// has no such tensor output.
char* ortio_output_shape(OrtSession* s, const char* name, int64_t* dims, size_t cap, long* rank) {
  size_t n = 0;
  *rank = -1;
  char* e = take(api->SessionGetOutputCount(s, &n));
  if (e) return e;
  OrtAllocator* a = NULL;
  if ((e = take(api->GetAllocatorWithDefaultOptions(&a)))) return e;
  for (size_t i = 0; i < n; i++) {
    char* got = NULL;
    if ((e = take(api->SessionGetOutputName(s, i, a, &got)))) return e;
    int same = strcmp(got, name) == 0;
    api->AllocatorFree(a, got);
    if (!same) continue;
    OrtTypeInfo* ti = NULL;
    if ((e = take(api->SessionGetOutputTypeInfo(s, i, &ti)))) return e;
    const OrtTensorTypeAndShapeInfo* tt = NULL;
    size_t r = 0;
    e = take(api->CastTypeInfoToTensorInfo(ti, &tt));
    if (!e && tt) e = take(api->GetDimensionsCount(tt, &r));
    if (!e && tt && r > cap) e = msg("output %s has too many dimensions", name);
    if (!e && tt) e = take(api->GetDimensions(tt, dims, r));
    if (!e && tt) *rank = (long)r;
    api->ReleaseTypeInfo(ti);
    return e;
  }
  return NULL;
}
