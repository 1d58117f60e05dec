/* kernels/cnp_classes.h - whole-tile loops over class bytes (classes from
 * kernels/cnp_change.h) that a pass runs between its steps: a flag kept in
 * the class byte's top bit, pixels made unobserved by a flag, forest split
 * again on a corrected change. Branch-free, vectorised; plain arrays. */
#ifndef CNP_CLASSES_H
#define CNP_CLASSES_H

#include <stddef.h>
#include <stdint.h>

/* The top bit of a class byte, free: classes are 0..3. */
enum { CNP_CLASS_FLAG = 0x80 };

/* cnp_classes_pack() : cls[i] |= CNP_CLASS_FLAG where flag[i] != 0.
 * cnp_classes_unpack() : flag[i] = 1 where cls[i] has CNP_CLASS_FLAG, else
 * 0, and the bit cleared from cls[i]. */
void cnp_classes_pack(uint8_t *cls, const uint8_t *flag, size_t n);
void cnp_classes_unpack(uint8_t *cls, uint8_t *flag, size_t n);

/* cnp_classes_unobserve() : pixels with (flags[i] & bit) that are not
 * unobserved become so. @return how many changed. */
int64_t cnp_classes_unobserve(uint8_t *cls, const uint8_t *flags, uint8_t bit, size_t n);

/* cnp_classes_resplit() : forest and loss pixels become loss where
 * (double)dndvi[i] <= loss_at, else forest; other classes stay. counts[c]
 * += the pixels of class c after the split. */
void cnp_classes_resplit(uint8_t *cls, const float *dndvi, double loss_at, size_t n,
                         int64_t counts[4]);

/* cnp_classes_u16() : out[i] = (uint16_t)in[i], for floats holding whole
 * numbers 0..65535 (UInt16 or Byte DNs read as floats). */
void cnp_classes_u16(const float *in, size_t n, uint16_t *out);

#endif /* CNP_CLASSES_H */
