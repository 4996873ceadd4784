// How an analysis element holds its engine object: the plumbing that facetrack, faceemotion
// and facevitals share, so that each element keeps only what is its own (its settings, its
// engine calls, its messages).
//
//   set_property (any thread)           streaming thread
//   ─────────────────────────           ────────────────
//   Settings, revision++  ──(lock)──►   TakeChanges: copy only when the revision moved
//                                       (or a restart needs a fresh object), then rebuild
//   get_property ◄── PublishedCounts ◄── WorkerSlot::Totals (the worker elements)
//
// Settings: the property values live in the element's Members under GST_OBJECT_LOCK beside a
// revision that set_property bumps on every change that needs a new engine object (a change
// that only affects the element, like post-messages, does not). The streaming thread keeps
// the revision its object was made from and compares once per frame, under the lock; the
// settings are copied only when they changed.
//
// Workers (faceemotion, facevitals): an engine worker runs beside the stream and is
// re-created when its settings change or the stream restarts. WorkerSlot keeps the counters
// of the workers it replaced, so the element's three counters (submitted, done = classified
// or processed, dropped) never go back while it runs, and whatever a replaced worker still
// held counts as dropped: once idle, submitted == done + dropped (+ failed runs).
//
// Threading: Snapshot and TakeChanges (and StartWorker, ApplyWorkerSettings, which call them)
// take the element's GST_OBJECT_LOCK themselves: call them without it. The Impl and its
// WorkerSlot belong to the streaming thread (and to start/stop, which never run beside it).
// PublishedCounts is written by the streaming thread and read by any.
//
// Example (faceemotion, whose worker is fg::EmotionWorker):
//   struct WorkerTraits {
//     using Worker = fg::EmotionWorker;
//     static fg::gst::WorkerCounts Counts(const fg::EmotionWorkerStats& s);  // now
//     static guint64 Finished(const fg::EmotionWorkerStats& s);  // jobs run (ok or failed)
//     static std::unique_ptr<Worker> Make(GstElement* self, const Settings& s);
//   };
//   struct Impl { fg::gst::WorkerSlot<WorkerTraits> slot; void Installed() {} };
//   using Members = fg::gst::WorkerMembers<Settings, Impl>;   // in the GObject struct: m
//   start():  return fg::gst::StartWorker(GST_ELEMENT(self), self->m);
//   frame:    if (!fg::gst::ApplyWorkerSettings(GST_ELEMENT(self), self->m, restart,
//                                               [&](const Settings& s) { ... }))
//               return GST_FLOW_ERROR;
//             ... submit, poll ...;  self->m.Publish();
//   EOS:      fg::gst::FinishWorker(self->m, timeout_s);
//   stop():   fg::gst::StopWorker(self->m);
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <memory>
#include <optional>
#include <utility>

namespace fg::gst {

// A copy of the settings and their revision, taken under the element's lock (start()).
template <typename Settings>
std::pair<Settings, guint64> Snapshot(GstObject* element, const Settings& settings,
                                      const guint64& revision) {
  GST_OBJECT_LOCK(element);
  std::pair<Settings, guint64> out{settings, revision};
  GST_OBJECT_UNLOCK(element);
  return out;
}

// Streaming thread, once per frame. Under the element's lock: calls per_frame(settings) (to
// copy what the element reads every frame), then, when `revision` is no longer `have` or
// `force` is set, returns a copy of the settings and their revision; nullopt when the engine
// object is up to date (the settings are copied only when something changed).
template <typename Settings, typename PerFrame>
std::optional<std::pair<Settings, guint64>> TakeChanges(GstObject* element,
                                                        const Settings& settings,
                                                        const guint64& revision, guint64 have,
                                                        bool force, PerFrame&& per_frame) {
  GST_OBJECT_LOCK(element);
  per_frame(settings);
  std::optional<std::pair<Settings, guint64>> out;
  if (G_UNLIKELY(revision != have || force)) out.emplace(settings, revision);
  GST_OBJECT_UNLOCK(element);
  return out;
}

// The counters a worker element shows as properties.
struct WorkerCounts {
  guint64 submitted = 0;  // jobs handed to the worker
  guint64 done = 0;       // jobs it ran (faceemotion: classified; facevitals: processed)
  guint64 dropped = 0;    // jobs it never ran plus results not taken in time

  WorkerCounts& operator+=(const WorkerCounts& o) {
    submitted += o.submitted;
    done += o.done;
    dropped += o.dropped;
    return *this;
  }
};

// The counters as get_property reads them: stored by the streaming thread after every frame,
// loaded by any thread without the lock (each value on its own; they are not a snapshot).
struct PublishedCounts {
  std::atomic<guint64> submitted{0}, done{0}, dropped{0};

  void Store(const WorkerCounts& c) {
    submitted.store(c.submitted, std::memory_order_relaxed);
    done.store(c.done, std::memory_order_relaxed);
    dropped.store(c.dropped, std::memory_order_relaxed);
  }
  // get_property: when `id` is one of the counter properties, which the element numbers
  // first_id (submitted), first_id + 1 (done), first_id + 2 (dropped), sets `value` and
  // returns true.
  bool Get(guint id, guint first_id, GValue* value) const {
    const std::atomic<guint64>* counter = id == first_id       ? &submitted
                                          : id == first_id + 1 ? &done
                                          : id == first_id + 2 ? &dropped
                                                               : nullptr;
    if (!counter) return false;
    g_value_set_uint64(value, counter->load(std::memory_order_relaxed));
    return true;
  }
};

// The worker of a running element and the counters of those it replaced; from start() to
// stop(), streaming thread only. Traits say how the worker's stats map to the counters and
// how a worker is made:
//   using Worker = ...;
//   static WorkerCounts Counts(const Worker's stats&);    // now
//   static guint64 Finished(const Worker's stats&);       // jobs it has run (ok or failed)
//   static std::unique_ptr<Worker> Make(GstElement*, const Settings&);  // null: error posted
template <typename WorkerTraits>
struct WorkerSlot {
  using Traits = WorkerTraits;
  using Worker = typename Traits::Worker;

  std::unique_ptr<Worker> worker;
  guint64 revision = 0;   // the settings revision the worker was made from
  WorkerCounts retired;   // totals of the workers this one replaced
  bool fresh = true;      // nothing submitted to this worker yet: a restart has nothing to clear

  // The element's counters: the retired workers' plus the current one's.
  WorkerCounts Totals() const {
    WorkerCounts c = retired;
    if (worker) c += Traits::Counts(worker->stats());
    return c;
  }

  // Retires the current worker into `retired` and installs `next` (nullptr at stop()).
  void Replace(std::unique_ptr<Worker> next) {
    if (worker) {
      // Its destructor discards the queued jobs and finishes the one being run; none of
      // their results can reach a frame, so all of them count as dropped, here, from the
      // stats read just before (they are unreadable once it is gone).
      const auto s = worker->stats();
      worker.reset();
      WorkerCounts c = Traits::Counts(s);
      const guint64 accounted = Traits::Finished(s) + s.jobs.dropped;
      if (s.jobs.pushed > accounted) c.dropped += s.jobs.pushed - accounted;
      retired += c;
    }
    worker = std::move(next);
    fresh = true;
  }
};

// The C++ members of a worker element (its GObject struct holds one, constructed in init and
// destroyed in finalize). Impl is what lives from start() to stop() on the streaming thread;
// it holds `WorkerSlot<Traits> slot` and a `void Installed()` that forgets the element's own
// per-track state of a worker that was replaced (faceemotion: the labels it posted).
template <typename Settings, typename Impl>
struct WorkerMembers {
  Settings settings;     // GST_OBJECT_LOCK
  guint64 revision = 1;  // bumped by every change that needs a new worker; GST_OBJECT_LOCK
  PublishedCounts counts;      // stored by the streaming thread, read by get_property
  std::unique_ptr<Impl> impl;  // created in start(), reset in stop()

  // Streaming thread (or start/stop, which never run beside it): the totals for get_property.
  void Publish() { counts.Store(impl->slot.Totals()); }

  // Makes a worker from `s` (revision `rev`) and puts it in place of the current one; false
  // (error posted, nothing changed) when it cannot be made.
  bool Install(GstElement* element, const Settings& s, guint64 rev) {
    using Traits = typename decltype(impl->slot)::Traits;
    auto next = Traits::Make(element, s);
    if (!next) return false;
    impl->slot.Replace(std::move(next));
    impl->slot.revision = rev;
    impl->Installed();
    Publish();
    return true;
  }
};

// start(): a new Impl with a worker made from the current settings; the counters restart.
// False (error posted) when the worker cannot be made.
template <typename Settings, typename Impl>
bool StartWorker(GstElement* element, WorkerMembers<Settings, Impl>& m) {
  const auto [s, revision] = Snapshot(GST_OBJECT(element), m.settings, m.revision);
  m.impl = std::make_unique<Impl>();
  if (m.Install(element, s, revision)) return true;
  m.impl.reset();
  return false;
}

// stop(): the final counters (the jobs the worker still held count as dropped), then the
// Impl goes.
template <typename Settings, typename Impl>
void StopWorker(WorkerMembers<Settings, Impl>& m) {
  if (!m.impl) return;
  m.impl->slot.Replace(nullptr);
  m.Publish();
  m.impl.reset();
}

// Streaming thread, per frame, before the worker is used: re-creates it when a worker
// setting changed since it was made, or on a restart once something was submitted to it.
// per_frame(settings) copies, under the lock, what the element reads every frame. False
// (error posted, the old worker kept) when the new settings cannot be used.
template <typename Settings, typename Impl, typename PerFrame>
bool ApplyWorkerSettings(GstElement* element, WorkerMembers<Settings, Impl>& m, bool restart,
                         PerFrame&& per_frame) {
  const auto& slot = m.impl->slot;
  const auto changed = TakeChanges(GST_OBJECT(element), m.settings, m.revision, slot.revision,
                                   restart && !slot.fresh, per_frame);
  return !changed || m.Install(element, changed->first, changed->second);
}

// EOS (serialized, so on the streaming thread): waits up to timeout_s for the jobs in flight
// (Worker::WaitIdle(timeout_s, args...)) so that the counters are final. False when the
// worker was still busy.
template <typename Settings, typename Impl, typename... Args>
bool FinishWorker(WorkerMembers<Settings, Impl>& m, double timeout_s, Args&&... args) {
  if (!m.impl || !m.impl->slot.worker) return true;
  const bool idle = m.impl->slot.worker->WaitIdle(timeout_s, std::forward<Args>(args)...);
  m.Publish();
  return idle;
}

}  // namespace fg::gst
