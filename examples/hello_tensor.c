/* A first zerfoo program: tensors, broadcasting, matmul and a gradient.
 * Build against an installed zerfoo:
 *   cc hello_tensor.c $(pkg-config --cflags --libs zerfoo) -o hello_tensor */
#include <stdio.h>

#include <zerfoo/zerfoo.h>

int main(void) {
    zf_ctx *ctx = zf_ctx_new(NULL);
    if (!ctx) return 1;
    /* x: [2, 3] = 0..5, w: [3] broadcast over rows */
    zf_tensor *x = zf_reshape(ctx, zf_arange(ctx, ZF_F32, 0, 6, 1), 2, (int64_t[]){2, 3});
    zf_tensor *w = zf_from_data(ctx, ZF_F32, 1, (int64_t[]){3}, (float[]){0.5f, -1.0f, 2.0f});
    zf_requires_grad(w, true);
    zf_tensor *y = zf_mul(ctx, x, w);                                  /* [2, 3] */
    zf_tensor *z = zf_matmul(ctx, y, zf_transpose(ctx, x, 0, 1));      /* [2, 2] */
    zf_tensor *loss = zf_sum(ctx, z, 0, NULL, false);
    if (!loss || zf_backward(ctx, loss, NULL) != ZF_OK) {
        fprintf(stderr, "error: %s\n", zf_last_error());
        zf_ctx_free(ctx);
        return 1;
    }
    zf_print(stdout, z);
    printf("loss = %g\n", zf_item(loss));
    zf_print(stdout, w->grad); /* d loss / d w */
    zf_ctx_free(ctx);
    return 0;
}
