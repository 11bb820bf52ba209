/* Training progress: a redrawn bar on a terminal, plain lines otherwise;
 * and the JSON form of an epoch's metrics. */
#include <math.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "train/train_internal.h"

#define BAR_WIDTH 24
#define REDRAW_SECONDS 0.1

double zf_now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void zf_progress_init(zf_progress *p, FILE *f, zf_progress_mode mode, int64_t epochs, int64_t batches) {
    p->f = f ? f : stderr;
    p->quiet = mode == ZF_PROGRESS_NONE;
    p->bar = mode == ZF_PROGRESS_BAR || (mode == ZF_PROGRESS_AUTO && isatty(fileno(p->f)));
    p->epochs = epochs;
    p->batches = batches;
    p->last_draw = 0;
    p->eval_name = "test";
}

void zf_progress_batch(zf_progress *p, int64_t epoch, int64_t batch, double loss, double acc, double sps) {
    if (p->quiet || !p->bar) return;
    double now = zf_now_seconds();
    if (batch != p->batches && now - p->last_draw < REDRAW_SECONDS) return;
    p->last_draw = now;
    int filled = p->batches > 0 ? (int)(BAR_WIDTH * batch / p->batches) : BAR_WIDTH;
    char bar[BAR_WIDTH + 1];
    for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
    bar[BAR_WIDTH] = '\0';
    fprintf(p->f, "\repoch %lld/%lld [%s] %lld/%lld  loss %.4f  acc %.4f  %.0f samples/s ", (long long)epoch,
            (long long)p->epochs, bar, (long long)batch, (long long)p->batches, loss, acc, sps);
    fflush(p->f);
}

void zf_progress_epoch(zf_progress *p, const zf_epoch_metrics *m) {
    if (p->quiet) return;
    if (p->bar) fputs("\r\033[K", p->f); /* clear the bar line */
    fprintf(p->f,
            "epoch %lld/%lld  train_loss %.4f  train_acc %.4f  %s_loss %.4f  %s_acc %.4f%s  lr %.3g  "
            "%.0f samples/s  %.1f s\n",
            (long long)m->epoch, (long long)p->epochs, m->train_loss, m->train_accuracy, p->eval_name,
            m->test_loss, p->eval_name, m->test_accuracy, m->ema ? " (ema)" : "", m->lr, m->samples_per_sec, m->seconds);
    fflush(p->f);
}

void zf_progress_abort(zf_progress *p) {
    if (!p->quiet && p->bar) {
        fputc('\n', p->f);
        fflush(p->f);
    }
}

static void json_num(FILE *f, const char *key, double v, bool last) {
    if (isfinite(v))
        fprintf(f, "\"%s\":%.17g%s", key, v, last ? "" : ",");
    else
        fprintf(f, "\"%s\":null%s", key, last ? "" : ",");
}

void zf_epoch_metrics_write_json(FILE *f, const zf_epoch_metrics *m) {
    fprintf(f, "{\"epoch\":%lld,\"step\":%lld,", (long long)m->epoch, (long long)m->step);
    json_num(f, "train_loss", m->train_loss, false);
    json_num(f, "train_accuracy", m->train_accuracy, false);
    json_num(f, "test_loss", m->test_loss, false);
    json_num(f, "test_accuracy", m->test_accuracy, false);
    fprintf(f, "\"weights\":\"%s\",", m->ema ? "ema" : "train");
    json_num(f, "lr", m->lr, false);
    json_num(f, "samples_per_sec", m->samples_per_sec, false);
    json_num(f, "seconds", m->seconds, true);
    fputc('}', f);
}
