/*
 * Open files: the console (one shared object, never freed) and pipes. A
 * read of the console sleeps until the UART interrupt has queued a whole
 * line and returns at most that line; input is not echoed (output stays
 * exactly what programs wrote, which the equivalence checks compare).
 */
#include "kernel.h"

#define NFILE 64
#define NPIPE 16
#define PIPE_SIZE 512
#define CONSOLE_BUF 256
#define CHUNK 128 /* bytes moved between user memory and the kernel per step */

enum file_type { F_FREE, F_CONSOLE, F_PIPE };

struct pipe {
  uint8_t data[PIPE_SIZE];
  uint64_t nread, nwrite; /* running totals; nwrite - nread bytes are buffered */
  int readers, writers;   /* open ends */
};

struct file {
  enum file_type type;
  int refs;
  int writable; /* pipes: which end */
  struct pipe *pipe;
};

static struct file files[NFILE];
static struct pipe pipes[NPIPE];
static int pipe_used[NPIPE];
static struct file console = {F_CONSOLE, 1, 1, NULL};

/* Console input queued by the UART interrupt. */
static uint8_t cons_buf[CONSOLE_BUF];
static uint64_t cons_r, cons_w;

void console_input(uint8_t c) {
  if (cons_w - cons_r == CONSOLE_BUF) return; /* full: drop, like a UART overrun */
  cons_buf[cons_w++ % CONSOLE_BUF] = c;
  wakeup(&console);
}

struct file *console_file(void) { return &console; }

void file_dup(struct file *f) {
  if (f->type != F_CONSOLE) f->refs++;
}

void file_close(struct file *f) {
  if (f->type == F_CONSOLE) return;
  if (--f->refs > 0) return;
  struct pipe *p = f->pipe;
  if (f->writable) p->writers--;
  else p->readers--;
  wakeup(&p->nread);
  wakeup(&p->nwrite);
  if (p->readers == 0 && p->writers == 0) pipe_used[p - pipes] = 0;
  f->type = F_FREE;
}

static struct file *file_alloc(void) {
  for (int i = 0; i < NFILE; i++) {
    if (files[i].type == F_FREE) return &files[i];
  }
  return NULL;
}

int pipe_create(struct file **rd, struct file **wr) {
  int pi = 0;
  while (pi < NPIPE && pipe_used[pi]) pi++;
  if (pi == NPIPE) return -1;
  struct file *r = file_alloc();
  if (r == NULL) return -1;
  r->type = F_PIPE; /* reserve it before looking for the second one */
  struct file *w = file_alloc();
  if (w == NULL) {
    r->type = F_FREE;
    return -1;
  }
  struct pipe *p = &pipes[pi];
  pipe_used[pi] = 1;
  p->nread = p->nwrite = 0;
  p->readers = p->writers = 1;
  *r = (struct file){F_PIPE, 1, 0, p};
  *w = (struct file){F_PIPE, 1, 1, p};
  *rd = r;
  *wr = w;
  return 0;
}

/* Whether a whole line (or a full buffer) is queued: a console read waits for one, like a tty in canonical mode. */
static int console_line_ready(void) {
  if (cons_w - cons_r == CONSOLE_BUF) return 1;
  for (uint64_t i = cons_r; i != cons_w; i++) {
    if (cons_buf[i % CONSOLE_BUF] == '\n') return 1;
  }
  return 0;
}

static long console_read(uint64_t ubuf, uint64_t n) {
  while (!console_line_ready()) {
    if (current->killed) return -1;
    console_waiters++;
    sleep_on(&console);
    console_waiters--;
  }
  /* Peek first, consume after the copy succeeded: a bad buffer must not eat input. */
  uint8_t chunk[CHUNK];
  uint64_t got = 0;
  while (got < n && got < CHUNK && cons_r + got != cons_w) {
    uint8_t c = cons_buf[(cons_r + got) % CONSOLE_BUF];
    chunk[got++] = c;
    if (c == '\n') break;
  }
  if (copyout(current, ubuf, chunk, got) < 0) return -1;
  cons_r += got;
  return (long)got;
}

static long pipe_read(struct pipe *p, uint64_t ubuf, uint64_t n) {
  while (p->nread == p->nwrite && p->writers > 0) {
    if (current->killed) return -1;
    sleep_on(&p->nread);
  }
  uint8_t chunk[CHUNK];
  uint64_t got = 0;
  while (got < n && got < CHUNK && p->nread + got != p->nwrite) {
    chunk[got] = p->data[(p->nread + got) % PIPE_SIZE];
    got++;
  }
  if (copyout(current, ubuf, chunk, got) < 0) return -1; /* nothing consumed */
  p->nread += got;
  wakeup(&p->nwrite);
  return (long)got;
}

static long pipe_write(struct pipe *p, uint64_t ubuf, uint64_t n) {
  uint8_t chunk[CHUNK];
  uint64_t done = 0;
  while (done < n) {
    if (p->readers == 0 || current->killed) return -1;
    uint64_t room = PIPE_SIZE - (p->nwrite - p->nread);
    if (room == 0) {
      wakeup(&p->nread);
      sleep_on(&p->nwrite);
      continue;
    }
    uint64_t k = n - done;
    if (k > room) k = room;
    if (k > CHUNK) k = CHUNK;
    if (copyin(current, chunk, ubuf + done, k) < 0) return -1;
    for (uint64_t i = 0; i < k; i++) p->data[p->nwrite++ % PIPE_SIZE] = chunk[i];
    done += k;
  }
  wakeup(&p->nread);
  return (long)done;
}

long file_read(struct file *f, uint64_t ubuf, uint64_t n) {
  if (f->type == F_CONSOLE) return console_read(ubuf, n);
  if (f->writable) return -1;
  return pipe_read(f->pipe, ubuf, n);
}

long file_write(struct file *f, uint64_t ubuf, uint64_t n) {
  if (f->type == F_PIPE) return f->writable ? pipe_write(f->pipe, ubuf, n) : -1;
  uint8_t chunk[CHUNK];
  for (uint64_t done = 0; done < n;) {
    uint64_t k = n - done < CHUNK ? n - done : CHUNK;
    if (copyin(current, chunk, ubuf + done, k) < 0) return done > 0 ? (long)done : -1;
    for (uint64_t i = 0; i < k; i++) arch_console_putc((char)chunk[i]);
    done += k;
  }
  return (long)n;
}
