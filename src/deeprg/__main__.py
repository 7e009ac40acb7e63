from deeprg.cli import main

main()
