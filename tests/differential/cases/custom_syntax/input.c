// generated parameters
//% def doubled(v):
//%     return 2 * v
#define SIZE %[size]
#define PLAIN %size
#define SCALED %[size * %scale]
#define DOUBLED %[doubled(%size) | 0.0]
int main(void) { return %[size]; } /* $x and @{y} are plain text here */
