# Chart of the benchmark suite: gnuplot -e "datafile='F'; outfile='O.png'" chart.gp
# Columns of datafile: pods, kubeletd s, podman s, kubeletd MiB, podman MiB.
set terminal pngcairo size 900,380 font ",9"
set output outfile
set datafile missing "?"
set multiplot layout 1,2
set key below
set grid
set yrange [0:*]
set logscale x
set xlabel "pods started at once"
set xrange [0.8:700]
set title "time until all pods Running"
set ylabel "seconds"
plot datafile using 1:2 with linespoints pt 7 lw 2 title "kubeletd", \
     datafile using 1:3 with linespoints pt 5 lw 2 title "podman kube play"
set title "memory of the agent per pod count"
set ylabel "MiB RSS"
unset logscale y
plot datafile using 1:4 with linespoints pt 7 lw 2 title "kubeletd + shims", \
     datafile using 1:5 with linespoints pt 5 lw 2 title "podman conmon processes"
unset multiplot
