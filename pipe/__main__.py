from pipe.main import main

main()
