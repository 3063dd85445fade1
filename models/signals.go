package models

/*
#include <signal.h>
#include <string.h>

// The signals whose handlers Go's runtime installs and a CUDA library may
// replace. Saved before an execution provider loads, restored after.
static const int saved_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE,
	SIGSEGV, SIGPIPE, SIGALRM, SIGTERM, SIGCHLD, SIGURG, SIGPROF, SIGUSR1, SIGUSR2, SIGWINCH};
#define N_SAVED (sizeof(saved_signals) / sizeof(saved_signals[0]))
static struct sigaction saved_actions[N_SAVED];

static void save_signal_handlers(void) {
	for (unsigned i = 0; i < N_SAVED; i++) sigaction(saved_signals[i], NULL, &saved_actions[i]);
}
static int restore_signal_handlers(void) {
	int changed = 0;
	for (unsigned i = 0; i < N_SAVED; i++) {
		struct sigaction now;
		sigaction(saved_signals[i], NULL, &now);
		if (now.sa_handler != saved_actions[i].sa_handler) changed++;
		sigaction(saved_signals[i], &saved_actions[i], NULL);
	}
	return changed;
}
// For the test: replace SIGINT's handler with SIG_IGN, as a library might.
static void clobber_sigint(void) {
	struct sigaction a;
	memset(&a, 0, sizeof a);
	a.sa_handler = SIG_IGN;
	sigaction(SIGINT, &a, NULL);
}
*/
import "C"

import "sync"

var goHandlers sync.Once

// withGoSignalHandlers runs fn (which may load an execution provider) and
// then puts back the signal handlers the process had before the first such
// call: the CUDA execution provider replaces Go's, after which Ctrl-C no
// longer stops the program cleanly (onnxruntime_go issue 140). It reports
// how many handlers differed from those when fn returned.
//
// The handlers are saved once, not around each call, so calls need no
// lock: sessions are created concurrently (four learned metrics' at
// start-up) and whichever call ends last leaves Go's handlers in place.
// Saving around each call would need the calls in turn, or one could save
// another's provider's handlers as Go's. Go installs its handlers when the
// process starts; signal.Notify changes one after that only for a signal
// that was ignored then, and the CLI calls it before loading any model.
func withGoSignalHandlers(fn func() error) (changed int, err error) {
	goHandlers.Do(func() { C.save_signal_handlers() })
	// Loading a provider or making a session allocates on the device: not
	// while a CUDA graph is being captured (captureMu).
	captureMu.RLock()
	err = fn()
	captureMu.RUnlock()
	return int(C.restore_signal_handlers()), err
}

func clobberSIGINTForTest() { C.clobber_sigint() }
